-- A key's trend: one API key's cost and tokens day by day, with the change from the day before.
-- A day the key was not used has no row (its change is then from the last day it was used).
-- Parameters: account, first_day, last_day, api_key
-- account: the Fireworks account id (the partition `account`, which every query must name);
-- first_day, last_day: the report days to cover, 'YYYY-MM-DD', both included;
-- api_key: the key's id (key_...) or its display name.
WITH key_days AS (
  SELECT
    DATE(day) AS day,
    api_key_id,
    api_key_name,
    team,
    SUM(CAST(attributed_cost_usd AS DECIMAL(18, 2))) AS cost_usd,
    SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens
  FROM daily_usage
  WHERE account = ?
    AND dt BETWEEN ? AND ?
    AND ? IN (api_key_id, api_key_name)
  GROUP BY 1, 2, 3, 4
)
SELECT
  day,
  api_key_id,
  api_key_name,
  team,
  cost_usd,
  cost_usd - LAG(cost_usd) OVER (PARTITION BY api_key_id ORDER BY day) AS change_usd,
  prompt_tokens,
  completion_tokens
FROM key_days
ORDER BY api_key_id, day
