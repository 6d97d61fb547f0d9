"""The Settings page's tabs."""
