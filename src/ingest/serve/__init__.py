"""What people read: the dashboard, the analysts' catalogue, feed status and the
quarantine digest."""
