"""Shipping and returns of physical goods: parcels, the couriers, tracking, returns, the workbench."""
