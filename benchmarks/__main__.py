"""python -m benchmarks: the same table as `python -m leadcore bench`."""
import argparse

from benchmarks import run

if __name__ == "__main__":     # intake's parsing helper is a spawned process: it must not run this again
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="leadcore's benchmark table.")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    p.add_argument("--fresh", action="store_true", help="rebuild the benchmark databases")
    args = p.parse_args()
    run.run(sizes=tuple(args.sizes), fresh=args.fresh)
