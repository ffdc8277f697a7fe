#!/usr/bin/env python3
"""The analytics questions answered by DuckDB over borderless's Parquet export (`borderless analytics
export`), for `borderless bench analytics`: each question as SQL with the same definitions as the engine's
(crates/insight), timed over repeated runs, its rows printed as JSON so the benchmark can check that both
answers are equal, row for row.

usage: analytics_duckdb.py EXPORT_DIR PARAMS_JSON   (PARAMS: from_ms, to_ms, offset_min, k, min_dwell_ms,
       within_days, top, runs, places: path of a Parquet file with location, sku, product, category, gondola)
prints one JSON object: {"<question>": {"p95_ms": …, "rows": [...]}, …}
"""
import json
import math
import sys
import time

try:
    import duckdb
except ImportError:
    sys.exit("DuckDB is not installed: pip install duckdb==2.0.1 (the benchmark's reference engine)")


def r1(x):
    return None if x is None else math.copysign(math.floor(abs(x) * 10 + 0.5), x) / 10


def r4(x):
    return None if x is None else math.copysign(math.floor(abs(x) * 10000 + 0.5), x) / 10000


def main():
    export, params = sys.argv[1], json.loads(sys.argv[2])
    f, t, off, k = params["from_ms"], params["to_ms"], params["offset_min"], params["k"]
    runs = params.get("runs", 10)
    con = duckdb.connect()
    con.execute(f"SET threads TO {params.get('threads', 2)}")
    con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{export}/events/*/*.parquet')")
    con.execute(f"CREATE VIEW places AS SELECT * FROM read_parquet('{params['places']}')")
    local = f"(at_ms + {off} * 60000)"
    hour = f"CAST(floor((({local} % 86400000) + 86400000) % 86400000 / 3600000) AS INTEGER)"
    day = f"CAST(floor({local} / 86400000) AS BIGINT)"
    win = f"at_ms >= {f} AND at_ms < {t}"
    out = {}

    def timed(name, sql, shape):
        times = []
        rows = None
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = con.execute(sql).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
        out[name] = {"p95_ms": round(p95, 3), "rows": [shape(r) for r in rows]}

    # 1. Dwell by zone (gondola aisles) and hour.
    timed(
        "dwell_zone_hour",
        f"""
        WITH d AS (SELECT location_id, 'gondola:' || replace(substr(zone, 9), ':front', '') AS key, {hour} AS h,
                          visit, shopper, dwell_ms FROM e
                   WHERE kind = 'dwell' AND {win} AND location_id IS NOT NULL AND zone LIKE 'gondola:%'),
             s AS (SELECT location_id, {hour} AS h, count(DISTINCT shopper) AS n FROM e
                   WHERE kind = 'entry' AND {win} AND location_id IS NOT NULL GROUP BY ALL)
        SELECT d.location_id, key, d.h, count(DISTINCT visit), count(DISTINCT shopper), count(*), avg(dwell_ms),
               quantile_cont(dwell_ms, 0.5), quantile_cont(dwell_ms, 0.9), any_value(s.n)
        FROM d LEFT JOIN s ON s.location_id = d.location_id AND s.h = d.h GROUP BY d.location_id, key, d.h""",
        lambda r: dwell_row(r, k),
    )
    # 1b. Dwell by facing (the heatmap's cells), over the whole period.
    timed(
        "dwell_facing",
        f"""
        SELECT location_id, zone, count(DISTINCT visit), count(DISTINCT shopper), count(*), avg(dwell_ms),
               quantile_cont(dwell_ms, 0.5), quantile_cont(dwell_ms, 0.9), NULL
        FROM e WHERE kind = 'dwell' AND {win} AND location_id IS NOT NULL AND zone LIKE 'facing:%' GROUP BY ALL""",
        lambda r: dwell_row((r[0], r[1], None) + tuple(r[2:]), k),
    )
    # 2. In-store funnel per product.
    timed(
        "instore_funnel",
        f"""
        WITH ev AS (SELECT * FROM e WHERE {win} AND location_id IS NOT NULL AND visit IS NOT NULL),
        keyed AS (
            SELECT ev.location_id, coalesce(p.product, ev.product_id) AS key, ev.kind, ev.visit, ev.shopper, ev.quantity
            FROM ev LEFT JOIN (SELECT DISTINCT location, sku, product FROM places) p ON p.location = ev.location_id AND p.sku = ev.sku
            WHERE (ev.kind = 'dwell' AND ev.zone LIKE 'facing:%' AND ev.dwell_ms >= {params['min_dwell_ms']})
               OR ev.kind IN ('pick', 'put_back') OR (ev.kind = 'purchase' AND ev.channel = 'cashierless')
        ),
        passed AS (
            SELECT ev.location_id, p.product AS key, 'passed' AS kind, ev.visit, ev.shopper, 0 AS quantity
            FROM ev JOIN (SELECT DISTINCT location, gondola, product FROM places) p
              ON p.location = ev.location_id AND 'gondola:' || p.gondola || ':front' = ev.zone
            WHERE ev.kind = 'dwell'
        ),
        all_ AS (SELECT * FROM keyed WHERE key IS NOT NULL UNION ALL SELECT * FROM passed)
        SELECT location_id, key,
               count(DISTINCT visit) FILTER (WHERE kind = 'passed'),
               count(DISTINCT visit) FILTER (WHERE kind = 'dwell'),
               count(DISTINCT visit) FILTER (WHERE kind = 'pick'),
               count(DISTINCT visit) FILTER (WHERE kind = 'purchase'),
               coalesce(sum(quantity) FILTER (WHERE kind = 'pick'), 0),
               coalesce(sum(quantity) FILTER (WHERE kind = 'put_back'), 0),
               count(DISTINCT shopper)
        FROM all_ GROUP BY ALL""",
        lambda r: funnel_row(r, k),
    )
    # 3. Web funnel by device (a purchase takes the device of the shopper's last web event before it); each
    # stage counts the shoppers of the row who reached every stage before it.
    timed(
        "online_funnel_device",
        f"""
        WITH w AS (SELECT * FROM e WHERE {win} AND shopper IS NOT NULL),
        d AS (SELECT shopper, at_ms, device FROM w WHERE kind IN ('view', 'cart_add', 'checkout') AND device IS NOT NULL),
        p AS (SELECT shopper, at_ms FROM w WHERE kind = 'purchase' AND channel IN ('web', 'click_collect')),
        pd AS (SELECT p.shopper, coalesce(d.device, 'unknown') AS device, 3 AS stage
               FROM p ASOF LEFT JOIN d ON p.shopper = d.shopper AND p.at_ms >= d.at_ms),
        s AS (SELECT shopper, coalesce(device, 'unknown') AS device,
                     CASE kind WHEN 'view' THEN 0 WHEN 'cart_add' THEN 1 ELSE 2 END AS stage
              FROM w WHERE kind IN ('view', 'cart_add', 'checkout') UNION ALL SELECT * FROM pd),
        f AS (SELECT device, shopper, bool_or(stage = 0) AS v, bool_or(stage = 1) AS c, bool_or(stage = 2) AS ch,
                     bool_or(stage = 3) AS p
              FROM s GROUP BY device, shopper)
        SELECT device, count(*) FILTER (WHERE v), count(*) FILTER (WHERE v AND c),
               count(*) FILTER (WHERE v AND c AND ch), count(*) FILTER (WHERE v AND c AND ch AND p), count(*)
        FROM f GROUP BY device""",
        lambda r: online_row(r, k),
    )
    # 4. Journeys: totals per journey.
    h = params["within_days"] * 86400000
    timed(
        "journeys",
        f"""
        WITH buy AS (SELECT event, shopper, product_id, location_id, channel, at_ms, quantity, amount_minor, currency
                     FROM e WHERE kind = 'purchase' AND shopper IS NOT NULL),
        interest AS (SELECT shopper, product_id, at_ms FROM e
                     WHERE {win} AND shopper IS NOT NULL AND product_id IS NOT NULL
                       AND ((kind = 'dwell' AND zone LIKE 'facing:%' AND dwell_ms >= {params['min_dwell_ms']}) OR kind = 'pick')),
        views AS (SELECT shopper, product_id, at_ms FROM e WHERE {win} AND shopper IS NOT NULL AND product_id IS NOT NULL AND kind = 'view'),
        pickups AS (SELECT shopper, location_id, order_key, at_ms FROM e WHERE {win} AND shopper IS NOT NULL AND kind = 'pickup'),
        j AS (
            SELECT 'showrooming' AS journey, i.shopper, i.shopper || '|' || i.product_id AS pair, b.*
            FROM interest i JOIN buy b ON b.shopper = i.shopper AND b.product_id = i.product_id
             AND b.at_ms >= i.at_ms AND b.at_ms <= i.at_ms + {h} AND b.channel IN ('web', 'click_collect')
            UNION ALL
            SELECT 'webrooming', v.shopper, v.shopper || '|' || v.product_id, b.*
            FROM views v JOIN buy b ON b.shopper = v.shopper AND b.product_id = v.product_id
             AND b.at_ms >= v.at_ms AND b.at_ms <= v.at_ms + {h} AND b.channel IN ('pos', 'cashierless')
            UNION ALL
            SELECT 'click_collect_addon', p.shopper, p.shopper || '|' || coalesce(p.order_key, ''), b.*
            FROM pickups p JOIN buy b ON b.shopper = p.shopper AND b.location_id IS NOT DISTINCT FROM p.location_id
             AND b.at_ms >= p.at_ms AND b.at_ms <= p.at_ms + 7200000 AND b.channel IN ('pos', 'cashierless')
        ),
        rows_ AS (SELECT DISTINCT journey, event, product_id, quantity, amount_minor, currency FROM j)
        SELECT j.journey, count(DISTINCT j.shopper), count(DISTINCT j.pair),
               (SELECT coalesce(sum(quantity), 0) FROM rows_ r WHERE r.journey = j.journey),
               (SELECT list(struct_pack(c := currency, a := amount)) FROM
                  (SELECT currency, sum(amount_minor) AS amount FROM rows_ r WHERE r.journey = j.journey GROUP BY currency))
        FROM j GROUP BY j.journey""",
        lambda r: journey_row(r, k),
    )
    have = {r["journey"] for r in out["journeys"]["rows"]}
    for j in ("showrooming", "webrooming", "click_collect_addon"):
        if j not in have:
            out["journeys"]["rows"].append(journey_row((j, 0, 0, 0, []), k))
    # 5a. Traffic and conversion by hour.
    timed(
        "traffic",
        f"""
        WITH buying AS (SELECT DISTINCT visit FROM e WHERE kind = 'purchase' AND visit IS NOT NULL
                        AND at_ms >= {f} AND at_ms < {t} + 86400000),
        en AS (SELECT location_id, {hour} AS h, visit, shopper, visit IN (SELECT visit FROM buying) AS bought
               FROM e WHERE kind = 'entry' AND {win} AND location_id IS NOT NULL),
        po AS (SELECT location_id, {hour} AS h, order_key, shopper, quantity FROM e
               WHERE kind = 'purchase' AND channel IN ('pos', 'cashierless') AND {win} AND location_id IS NOT NULL),
        cells AS (SELECT location_id, h FROM en UNION SELECT location_id, h FROM po),
        ev AS (SELECT location_id, h, count(DISTINCT visit) AS visits, count(DISTINCT visit) FILTER (WHERE bought) AS conv
               FROM en GROUP BY ALL),
        pv AS (SELECT location_id, h, count(DISTINCT order_key) AS orders, count(DISTINCT shopper) AS buyers, sum(quantity) AS units
               FROM po GROUP BY ALL),
        sh AS (SELECT location_id, h, count(DISTINCT shopper) AS n FROM
               (SELECT location_id, h, shopper FROM en UNION ALL SELECT location_id, h, shopper FROM po) GROUP BY ALL)
        SELECT c.location_id, c.h, coalesce(ev.visits, 0), coalesce(pv.orders, 0), coalesce(pv.buyers, 0),
               coalesce(ev.conv, 0), coalesce(pv.units, 0), sh.n
        FROM cells c LEFT JOIN ev USING (location_id, h) LEFT JOIN pv USING (location_id, h) JOIN sh USING (location_id, h)""",
        lambda r: traffic_row(r, k),
    )
    # 5b. Channel mix by location, local day, channel and currency.
    timed(
        "channel_mix",
        f"""
        WITH m AS (SELECT location_id, {day} AS d, coalesce(channel, '') AS channel, coalesce(currency, '') AS currency,
                          count(DISTINCT order_key) FILTER (WHERE kind = 'purchase') AS orders,
                          coalesce(sum(quantity) FILTER (WHERE kind = 'purchase'), 0) AS units,
                          coalesce(sum(amount_minor) FILTER (WHERE kind = 'purchase'), 0) AS revenue,
                          coalesce(sum(amount_minor) FILTER (WHERE kind = 'return'), 0) AS returned,
                          count(DISTINCT shopper) AS shoppers
                   FROM e WHERE kind IN ('purchase', 'return') AND {win} AND location_id IS NOT NULL GROUP BY ALL)
        SELECT location_id, d, channel, currency, orders, units, revenue, returned,
               sum(revenue) OVER (PARTITION BY location_id, d, currency), shoppers FROM m""",
        lambda r: mix_row(r, k),
    )
    # 5c. Repeat purchases.
    timed(
        "repeat",
        f"""
        WITH c AS (SELECT customer, count(DISTINCT order_key) AS n FROM e
                   WHERE kind = 'purchase' AND customer IS NOT NULL AND {win} GROUP BY customer)
        SELECT count(*), count(*) FILTER (WHERE n > 1) FROM c HAVING count(*) > 0""",
        lambda r: repeat_row(r, k),
    )
    # 6. Stock-outs (an outage that ends is followed by its return to stock).
    timed(
        "stockouts",
        f"""
        WITH s AS (SELECT location_id, sku, kind, at_ms,
                          lead(at_ms) OVER (PARTITION BY location_id, sku ORDER BY at_ms) AS next_at,
                          lead(kind) OVER (PARTITION BY location_id, sku ORDER BY at_ms) AS next_kind
                   FROM e WHERE kind IN ('stock_out', 'stock_back') AND at_ms < {t}),
        o AS (SELECT location_id, sku, at_ms AS out_at, CASE WHEN next_kind = 'stock_back' THEN next_at END AS back_at
              FROM s WHERE kind = 'stock_out'),
        w AS (SELECT location_id, sku,
                     count(*) FILTER (WHERE (out_at >= {f}) OR (back_at IS NULL OR back_at >= {f})) AS episodes,
                     sum(greatest(0, least(coalesce(back_at, {t}), {t}) - greatest(out_at, {f}))) AS out_ms,
                     bool_or(back_at IS NULL) AS out_now
              FROM o WHERE out_at >= {f} OR back_at IS NULL OR back_at >= {f} GROUP BY ALL),
        sold AS (SELECT location_id, sku, currency, sum(quantity) AS q, sum(amount_minor) AS a FROM e
                 WHERE kind = 'purchase' AND {win} GROUP BY ALL)
        SELECT w.location_id, w.sku, episodes, out_ms, out_now,
               (SELECT coalesce(sum(q), 0) FROM sold WHERE sold.location_id = w.location_id AND sold.sku = w.sku),
               (SELECT list(struct_pack(c := currency, q := q, a := a)) FROM sold WHERE sold.location_id = w.location_id AND sold.sku = w.sku)
        FROM w WHERE episodes > 0 OR out_ms > 0""",
        lambda r: stockout_row(r, f, t),
    )
    print(json.dumps(out))


def dwell_row(r, k):
    loc, key, h, visits, visitors, dwells, mean, median, p90, store = r
    row = {"location_id": loc, "key": key, "hour": h, "suppressed": visitors < k}
    if row["suppressed"]:
        row.update(visits=None, visitors=None, dwells=None, mean_ms=None, median_ms=None, p90_ms=None, share=None)
    else:
        row.update(visits=visits, visitors=visitors, dwells=dwells, mean_ms=r1(mean), median_ms=r1(median),
                   p90_ms=r1(p90), share=r4(visitors / store) if store else None)
    return row


def funnel_row(r, k):
    loc, key, passed, dwelled, picked, bought, pu, pb, shoppers = r
    row = {"location_id": loc, "key": key, "suppressed": shoppers < k}
    if row["suppressed"]:
        row.update(passed=None, dwelled=None, picked=None, bought=None, picked_units=None, put_back_units=None, put_back_rate=None)
    else:
        row.update(passed=passed, dwelled=dwelled, picked=picked, bought=bought, picked_units=int(pu),
                   put_back_units=int(pb), put_back_rate=r4(pb / pu) if pu > 0 else None)
    return row


def online_row(r, k):
    device, v, c, ch, p, shoppers = r
    row = {"device": device, "suppressed": shoppers < k}
    rate = lambda a, b: r4(a / b) if b > 0 else None
    if row["suppressed"]:
        row.update(viewed=None, carted=None, checked_out=None, purchased=None, view_to_cart=None,
                   cart_to_checkout=None, checkout_to_purchase=None)
    else:
        row.update(viewed=v, carted=c, checked_out=ch, purchased=p, view_to_cart=rate(c, v),
                   cart_to_checkout=rate(ch, c), checkout_to_purchase=rate(p, ch))
    return row


def journey_row(r, k):
    journey, shoppers, pairs, units, revenue = r
    row = {"journey": journey, "suppressed": shoppers < k}
    if row["suppressed"]:
        row.update(shoppers_count=None, journeys=None, units=None, revenue_minor=None)
    else:
        row.update(shoppers_count=shoppers, journeys=pairs, units=int(units),
                   revenue_minor={x["c"]: int(x["a"]) for x in (revenue or [])})
    return row


def traffic_row(r, k):
    loc, h, visits, orders, buyers, conv, units, shoppers = r
    row = {"location_id": loc, "hour": h, "suppressed": shoppers < k}
    if row["suppressed"]:
        row.update(visits=None, orders=None, buyers=None, conversion=None, basket_units=None)
    else:
        row.update(visits=visits, orders=orders, buyers=buyers, conversion=r4(conv / visits) if visits else None,
                   basket_units=r1(units / orders) if orders else None)
    return row


def mix_row(r, k):
    loc, d, channel, currency, orders, units, revenue, returned, total, shoppers = r
    y, m, dd = civil(d)
    row = {"location_id": loc, "date": f"{y:04}-{m:02}-{dd:02}", "channel": channel, "currency": currency,
           "suppressed": shoppers < k}
    if row["suppressed"]:
        row.update(orders=None, units=None, revenue_minor=None, returned_minor=None, share=None)
    else:
        row.update(orders=orders, units=int(units), revenue_minor=int(revenue), returned_minor=int(returned),
                   share=r4(revenue / total) if total > 0 else None)
    return row


def repeat_row(r, k):
    buyers, rep = r
    row = {"segment": "all", "suppressed": buyers < k}
    if row["suppressed"]:
        row.update(buyers=None, repeat_buyers=None, repeat_rate=None)
    else:
        row.update(buyers=buyers, repeat_buyers=rep, repeat_rate=r4(rep / buyers))
    return row


def stockout_row(r, f, t):
    loc, sku, episodes, out_ms, out_now, units, by_cur = r
    in_hours = max(0, (t - f) - out_ms) / 3600000
    rate = units / in_hours if in_hours > 0 else 0.0
    lost = rate * out_ms / 3600000
    lost_minor = {}
    for x in by_cur or []:
        mean = x["a"] / max(x["q"], 1)
        lost_minor[x["c"]] = int(math.copysign(math.floor(abs(lost * mean * x["q"] / max(units, 1)) + 0.5), 1))
    return {"location_id": loc, "sku": sku, "episodes": episodes, "out_ms": int(out_ms), "out_now": bool(out_now),
            "sold_per_hour": r4(rate), "lost_units": r1(lost), "lost_minor": lost_minor}


def civil(days):
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


if __name__ == "__main__":
    main()
