"""leadcore's benchmarks (not tests): `python -m leadcore bench` (reads, writes, pages, intake) and
`python -m leadcore bench --load` (signed-in sessions over Streamlit's websocket, benchmarks/load.py)."""
