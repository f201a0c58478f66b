-- Chargeback per month: what each team, project and environment spent, in USD and in cents.
-- One row per month, team, project and environment; the cents are the sum of the archived
-- rows' cents, the figures every report adds up. Unattributed spend is the team
-- "(unattributed)"; lines billed without usage detail are "(billed, not in usage data)".
-- Parameters: account, first_day, last_day
-- account: the Fireworks account id (the partition `account`, which every query must name);
-- first_day, last_day: the report days to cover, 'YYYY-MM-DD', both included (a month: its
-- first and last day).
SELECT
  SUBSTR(day, 1, 7) AS month,
  CASE
    WHEN usage_kind = 'billed_only' THEN '(billed, not in usage data)'
    WHEN team = '' THEN '(unattributed)'
    ELSE team
  END AS team,
  project,
  environment,
  SUM(CAST(attributed_cost_usd AS DECIMAL(18, 2))) AS cost_usd,
  CAST(SUM(CAST(attributed_cost_usd AS DECIMAL(18, 2))) * 100 AS BIGINT) AS cost_cents
FROM daily_usage
WHERE account = ?
  AND dt BETWEEN ? AND ?
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 5 DESC, 3, 4
