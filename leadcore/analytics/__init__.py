"""The read side for managers and analysts: Dashboard read models, charts, exports, Explore."""
