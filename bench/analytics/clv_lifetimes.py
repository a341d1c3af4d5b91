"""The CLV side of the analytics benchmark, for `lifetimes`.

    python clv_lifetimes.py summarize TRANSACTIONS.csv END SUMMARY.csv
        Writes customer_id,frequency,recency,T,monetary_value (weeks of 7 days, same-day purchases
        merged, repeat purchases only: kimochi's and lifetimes' conventions) with DuckDB. Not timed.
    python clv_lifetimes.py predict SUMMARY.csv HORIZON_WEEKS OUT.csv
        Fits BG/NBD and Gamma-Gamma with lifetimes and writes per customer what `kimochi clv
        predict` writes: P(alive), expected purchases over the horizon, expected spend and the
        12-month discounted CLV (1 % a month).
    python clv_lifetimes.py compare LIFETIMES.csv KIMOCHI.csv [KIMOCHI2.csv ...]
        Checks that kimochi's predictions agree with lifetimes' customer by customer (at most 1e-4
        relative, plus 1e-4 absolute for the rounding of the printed decimals) and prints the
        largest differences; exits 1 if not.
"""

import sys
import warnings


def summarize(transactions: str, end: str, out: str) -> None:
    import duckdb

    duckdb.execute(
        f"""
        COPY (
            WITH days AS (
                SELECT customer_id, date, sum(amount) AS amount
                FROM read_csv('{transactions}', header = true,
                              columns = {{'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DOUBLE'}})
                WHERE date <= DATE '{end}' GROUP BY ALL
            ), numbered AS (
                SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY date) AS n FROM days
            )
            SELECT customer_id,
                   count(*) - 1 AS frequency,
                   (max(date) - min(date)) / 7.0 AS recency,
                   (DATE '{end}' - min(date)) / 7.0 AS T,
                   coalesce(avg(amount) FILTER (WHERE n > 1), 0) AS monetary_value
            FROM numbered GROUP BY customer_id ORDER BY customer_id
        ) TO '{out}' (HEADER, DELIMITER ',')
        """
    )


def predict(summary_path: str, horizon: float, out: str) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    warnings.simplefilter("ignore")
    summary = pd.read_csv(summary_path, dtype={"customer_id": str}).set_index("customer_id")
    x, t_x, age, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    bgnbd = BetaGeoFitter().fit(x, t_x, age)
    spenders = summary[x > 0]
    gg = GammaGammaFitter().fit(spenders["frequency"], spenders["monetary_value"])
    result = pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": age,
            "p_alive": bgnbd.conditional_probability_alive(x, t_x, age),
            "expected_purchases": bgnbd.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age),
            "expected_spend": gg.conditional_expected_average_profit(x, m),
            "clv": gg.customer_lifetime_value(bgnbd, x, t_x, age, m, time=12, discount_rate=0.01, freq="W"),
        }
    )
    result.to_csv(out, float_format="%.6f")
    print(dict(bgnbd.params_), dict(gg.params_), file=sys.stderr)


def compare(reference: str, *others: str) -> None:
    import numpy as np
    import pandas as pd

    theirs = pd.read_csv(reference, dtype={"customer_id": str}).set_index("customer_id").sort_index()
    failed = False
    for path in others:
        ours = pd.read_csv(path, dtype={"customer_id": str}).set_index("customer_id").sort_index()
        if not ours.index.equals(theirs.index):
            print(f"{path}: not the same customers as {reference}", file=sys.stderr)
            failed = True
            continue
        for column in ["p_alive", "expected_purchases", "expected_spend", "clv"]:
            a, b = ours[column].to_numpy(), theirs[column].to_numpy()
            difference = np.abs(a - b)
            relative = float((difference / np.maximum(np.abs(b), 1e-300)).max())
            excess = float((difference - (1e-4 * np.abs(b) + 1e-4)).max())
            print(f"{path}: {column}: largest difference {float(difference.max()):.2e} "
                  f"(relative {relative:.2e}) over {len(a):,} customers")
            failed |= excess > 0
    if failed:
        raise SystemExit(1)


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "summarize":
        summarize(*args)
    elif command == "predict":
        predict(args[0], float(args[1]), args[2])
    elif command == "compare":
        compare(*args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
