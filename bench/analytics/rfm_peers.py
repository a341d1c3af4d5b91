"""The RFM summary and 5-level scores of `kimochi rfm`, computed by DuckDB, Polars or pandas.

Same definitions as kimochi (crates/kimochi-analytics/src/rfm.rs), so the outputs are
byte-identical and the benchmark compares the same work: rows after --as-of are ignored,
purchases on one day are one purchase, monetary is the rounded sum; each dimension is ranked
worst first with ties broken by customer id, and rank i of n gets level floor((2i+1)·5/(2n))+1.

    python rfm_peers.py duckdb|polars|pandas TRANSACTIONS.csv AS_OF OUT.csv [--threads 2]
"""

import argparse
import datetime
import os


def run_duckdb(path: str, as_of: str, out: str, threads: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""
        COPY (
            WITH days AS (
                SELECT customer_id, date, sum(amount) AS amount
                FROM read_csv('{path}', header = true,
                              columns = {{'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DOUBLE'}})
                WHERE date <= DATE '{as_of}'
                GROUP BY customer_id, date
            ), customers AS (
                SELECT customer_id, max(date) AS last_purchase, count(*) AS frequency,
                       round(sum(amount))::BIGINT AS monetary
                FROM days GROUP BY customer_id
            ), ranked AS (
                SELECT *, count(*) OVER () AS n,
                       row_number() OVER (ORDER BY last_purchase, customer_id) - 1 AS r_rank,
                       row_number() OVER (ORDER BY frequency, customer_id) - 1 AS f_rank,
                       row_number() OVER (ORDER BY monetary, customer_id) - 1 AS m_rank
                FROM customers
            ), scored AS (
                SELECT customer_id, DATE '{as_of}' - last_purchase AS recency_days, frequency, monetary,
                       (2 * r_rank + 1) * 5 // (2 * n) + 1 AS r,
                       (2 * f_rank + 1) * 5 // (2 * n) + 1 AS f,
                       (2 * m_rank + 1) * 5 // (2 * n) + 1 AS m
                FROM ranked
            )
            SELECT *, r * 100 + f * 10 + m AS cell FROM scored ORDER BY customer_id
        ) TO '{out}' (HEADER, DELIMITER ',')
        """
    )


def run_polars(path: str, as_of: str, out: str, threads: int) -> None:
    # Polars reads its thread count once, at import.
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    day = datetime.date.fromisoformat(as_of)
    customers = (
        pl.scan_csv(path, schema={"customer_id": pl.String, "date": pl.Date, "amount": pl.Float64})
        .filter(pl.col("date") <= day)
        .group_by("customer_id", "date")
        .agg(pl.col("amount").sum())
        .group_by("customer_id")
        .agg(
            last_purchase=pl.col("date").max(),
            frequency=pl.len(),
            monetary=pl.col("amount").sum().round().cast(pl.Int64),
        )
        .sort("customer_id")
        .with_columns(n=pl.len(), id_rank=pl.int_range(pl.len(), dtype=pl.Int64))
    )

    def level(key: pl.Expr) -> pl.Expr:
        # Rank by (key, customer id): the id rank breaks ties, so one integer sort does it.
        rank = (key.cast(pl.Int64) * pl.col("n") + pl.col("id_rank")).rank("ordinal").cast(pl.Int64) - 1
        return ((2 * rank + 1) * 5 // (2 * pl.col("n")) + 1).cast(pl.Int64)

    (
        customers.select(
            "customer_id",
            recency_days=(pl.lit(day) - pl.col("last_purchase")).dt.total_days(),
            frequency="frequency",
            monetary="monetary",
            r=level(pl.col("last_purchase").cast(pl.Int32)),
            f=level(pl.col("frequency")),
            m=level(pl.col("monetary")),
        )
        .with_columns(cell=pl.col("r") * 100 + pl.col("f") * 10 + pl.col("m"))
        .collect()
        .write_csv(out)
    )


def run_pandas(path: str, as_of: str, out: str, threads: int) -> None:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path, dtype={"customer_id": str, "date": str, "amount": float})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    frame = frame[frame["date"] <= pd.Timestamp(as_of)]
    days = frame.groupby(["customer_id", "date"], sort=False)["amount"].sum().reset_index()
    customers = days.groupby("customer_id", sort=True).agg(
        last_purchase=("date", "max"), frequency=("date", "size"), monetary=("amount", "sum")
    )
    customers["monetary"] = np.round(customers["monetary"]).astype(np.int64)
    n = len(customers)
    id_rank = np.arange(n, dtype=np.int64)

    def level(key: np.ndarray) -> np.ndarray:
        order = np.lexsort((id_rank, key))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64)
        return (2 * rank + 1) * 5 // (2 * n) + 1

    last_day = customers["last_purchase"].to_numpy().astype("datetime64[D]").astype(np.int64)
    result = pd.DataFrame(
        {
            "customer_id": customers.index,
            "recency_days": (np.datetime64(as_of, "D").astype(np.int64) - last_day),
            "frequency": customers["frequency"].to_numpy(),
            "monetary": customers["monetary"].to_numpy(),
            "r": level(last_day),
            "f": level(customers["frequency"].to_numpy()),
            "m": level(customers["monetary"].to_numpy()),
        }
    )
    result["cell"] = result["r"] * 100 + result["f"] * 10 + result["m"]
    result.to_csv(out, index=False, lineterminator="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["duckdb", "polars", "pandas"])
    parser.add_argument("transactions")
    parser.add_argument("as_of")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"duckdb": run_duckdb, "polars": run_polars, "pandas": run_pandas}[args.engine](
        args.transactions, args.as_of, args.out, args.threads
    )


if __name__ == "__main__":
    main()
