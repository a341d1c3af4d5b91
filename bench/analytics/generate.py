"""Writes a deterministic transactions CSV (customer_id,date,amount) for the analytics benchmarks.

Customers follow the Pareto/NBD story, so that the BTYD models have something real to fit:
each customer is acquired on a day of 2023 (their first purchase), buys as a Poisson process
with a rate λ ~ Gamma, dies after an exponential lifetime with rate μ ~ Gamma, and spends
amounts ~ Gamma(p, ν) yen with their own ν ~ Gamma (the Gamma-Gamma spend model). Purchases
run until 2024-12-31, the as-of / calibration-end date of the benchmarks. Rows are shuffled and
cut to exactly --rows, so the file is a plain unsorted export as a BI tool would produce it.

    python generate.py --rows 10000000 --customers 1000000 --out target/bench/transactions-10m.csv
"""

import argparse
import os

import numpy as np
import polars as pl

START = np.datetime64("2023-01-01")
END = np.datetime64("2024-12-31")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    n = args.customers
    horizon_days = int((END - START).astype(int))  # 730
    birth = rng.integers(0, 365, size=n)
    # Daily purchase rate with mean 0.04 (about one purchase every 25 days while alive), and a
    # mean lifetime of about 300 days: ~10 purchase days per customer on average.
    rate = rng.gamma(shape=0.9, scale=0.04 / 0.9, size=n)
    lifetime = rng.exponential(1.0 / rng.gamma(shape=1.5, scale=(1 / 300) / 1.5, size=n))
    active_until = np.minimum(birth + lifetime, horizon_days + 0.999)
    # Inflate the repeat count a little so that the cut to --rows removes rows rather than
    # leaving the file short; the inflation factor is fixed, so the output stays deterministic.
    repeats = rng.poisson(rate * (active_until - birth) * 1.15)
    counts = 1 + repeats
    total = int(counts.sum())
    customer = np.repeat(np.arange(n, dtype=np.int64), counts)
    first_of_customer = np.repeat(np.cumsum(counts) - counts, counts)
    is_first = np.arange(total) == first_of_customer
    offset = rng.random(total) * np.repeat(active_until - birth, counts)
    day = np.repeat(birth, counts) + np.where(is_first, 0, np.floor(offset).astype(np.int64))
    spend_rate = rng.gamma(shape=3.0, scale=1.0 / (3.0 * 3000.0), size=n)  # mean amount ~ 3,000 yen / purchase
    amount = np.maximum(1, np.round(rng.gamma(shape=4.0, size=total) / (4.0 * np.repeat(spend_rate, counts))))

    if total < args.rows:
        raise SystemExit(f"only {total} rows generated for {args.rows} wanted: raise --customers")
    order = rng.permutation(total)[: args.rows]
    frame = pl.DataFrame(
        {
            "customer_id": customer[order],
            "date": (START + day[order].astype("timedelta64[D]")).astype("datetime64[D]"),
            "amount": amount[order].astype(np.int64),
        }
    ).with_columns(
        customer_id=pl.lit("C") + pl.col("customer_id").cast(pl.String).str.zfill(7),
        date=pl.col("date").cast(pl.Date).dt.strftime("%Y-%m-%d"),
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    frame.write_csv(args.out)
    print(f"{args.out}: {args.rows} rows, {frame['customer_id'].n_unique()} customers")


if __name__ == "__main__":
    main()
