"""The check catalogue: one module per area; metadata in catalogue.yaml."""
