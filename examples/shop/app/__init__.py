"""Shop service: users, orders and order items."""
