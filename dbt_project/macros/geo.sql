{#- Great-circle distance in km between two WGS84 points (haversine, mean Earth radius). -#}
{% macro haversine_km(lat1, lon1, lat2, lon2) -%}
    (2 * 6371.0088 * asin(sqrt(
        pow(sin(radians(({{ lat2 }}) - ({{ lat1 }})) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
        * pow(sin(radians(({{ lon2 }}) - ({{ lon1 }})) / 2), 2)
    )))
{%- endmacro %}

{#- The body of a one-row CTE: the sizes in degrees (latitude_degrees, longitude_degrees)
    of grid cells at least `km` wide wherever the points (latitude) of `relations` are, so
    that two of those points `km` apart or less are in the same or neighbouring cells. A
    degree of latitude is more than 111 km (100 here); a degree of longitude is that
    times the cosine of the latitude furthest from the equator. A join on cells is exact
    whatever their size: smaller cells only compare fewer points. -#}
{% macro grid_cell_sizes(km, relations) -%}
    select
        {{ km }} / 100.0 as latitude_degrees,
        {{ km }} / 100.0 / cos(radians(least(max(abs(points.latitude)), 89.0))) as longitude_degrees
    from (
        {%- for relation in relations %}
        select latitude from {{ relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as points
{%- endmacro %}
