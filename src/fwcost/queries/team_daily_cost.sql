-- Cost per team per day: what each team spent on each report day, in USD.
-- Unattributed spend (no team annotation) is the row "(unattributed)"; lines Fireworks billed
-- without usage detail are "(billed, not in usage data)", so each day's rows add up to the
-- day's total in the report.
-- Parameters: account, first_day, last_day
-- account: the Fireworks account id (the partition `account`, which every query must name);
-- first_day, last_day: the report days to cover, 'YYYY-MM-DD', both included.
SELECT
  DATE(day) AS day,
  CASE
    WHEN usage_kind = 'billed_only' THEN '(billed, not in usage data)'
    WHEN team = '' THEN '(unattributed)'
    ELSE team
  END AS team,
  SUM(CAST(attributed_cost_usd AS DECIMAL(18, 2))) AS cost_usd
FROM daily_usage
WHERE account = ?
  AND dt BETWEEN ? AND ?
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
