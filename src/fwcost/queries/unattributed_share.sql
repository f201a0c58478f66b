-- The unattributed share: spend with no team annotation, per day and for the whole period.
-- Spend on keys and deployments without a team, in USD and as a percentage of the day's total;
-- the row "all days" sums the period.
-- unattributed_usd is the report's "Unattributed" row; lines Fireworks billed without usage
-- detail are counted apart (billed_not_in_usage_usd), as the report shows them.
-- Parameters: account, first_day, last_day
-- account: the Fireworks account id (the partition `account`, which every query must name);
-- first_day, last_day: the report days to cover, 'YYYY-MM-DD', both included.
WITH day_costs AS (
  SELECT
    dt,
    SUM(CASE WHEN team = '' AND usage_kind <> 'billed_only' THEN cost ELSE 0 END) AS unattributed,
    SUM(CASE WHEN usage_kind = 'billed_only' THEN cost ELSE 0 END) AS billed_not_in_usage,
    SUM(cost) AS total
  FROM (
    SELECT dt, team, usage_kind, CAST(attributed_cost_usd AS DECIMAL(18, 2)) AS cost
    FROM daily_usage
    WHERE account = ?
      AND dt BETWEEN ? AND ?
  ) AS archived_rows
  GROUP BY dt
)
SELECT
  COALESCE(dt, 'all days') AS day,
  SUM(unattributed) AS unattributed_usd,
  SUM(billed_not_in_usage) AS billed_not_in_usage_usd,
  SUM(total) AS total_usd,
  ROUND(100 * CAST(SUM(unattributed) AS DOUBLE) / NULLIF(CAST(SUM(total) AS DOUBLE), 0), 2)
    AS unattributed_pct
FROM day_costs
GROUP BY ROLLUP (dt)
ORDER BY dt NULLS LAST
