-- The week's biggest movers: the teams and API keys whose spend changed most, week on week.
-- The seven days ending week_end against the seven days before, in USD: ten teams and ten
-- keys, the largest change first, up or down.
-- Parameters: account, week_end, week_end, account, week_end, week_end
-- account: the Fireworks account id (the partition `account`, which every query must name);
-- week_end: the last day of "this week", 'YYYY-MM-DD'. Athena takes parameters in WHERE
-- clauses only, so each week is its own scan and asks for both again.
WITH this_week AS (
  SELECT usage_kind, team, api_key_id, api_key_name, attributed_cost_usd, TRUE AS in_this_week
  FROM daily_usage
  WHERE account = ?
    AND dt BETWEEN CAST(CAST(DATE(?) - INTERVAL '6' DAY AS DATE) AS VARCHAR) AND ?
),
last_week AS (
  SELECT usage_kind, team, api_key_id, api_key_name, attributed_cost_usd, FALSE AS in_this_week
  FROM daily_usage
  WHERE account = ?
    AND dt BETWEEN CAST(CAST(DATE(?) - INTERVAL '13' DAY AS DATE) AS VARCHAR)
      AND CAST(CAST(DATE(?) - INTERVAL '7' DAY AS DATE) AS VARCHAR)
),
costs AS (
  SELECT
    CASE
      WHEN usage_kind = 'billed_only' THEN '(billed, not in usage data)'
      WHEN team = '' THEN '(unattributed)'
      ELSE team
    END AS team,
    api_key_id,
    api_key_name,
    CAST(attributed_cost_usd AS DECIMAL(18, 2)) AS cost,
    in_this_week
  FROM (SELECT * FROM this_week UNION ALL SELECT * FROM last_week) AS both_weeks
),
movers AS (
  SELECT
    'team' AS kind,
    team AS name,
    team,
    SUM(CASE WHEN in_this_week THEN 0 ELSE cost END) AS last_week_usd,
    SUM(CASE WHEN in_this_week THEN cost ELSE 0 END) AS this_week_usd
  FROM costs
  GROUP BY team
  UNION ALL
  SELECT
    'key' AS kind,
    CASE WHEN api_key_name = '' THEN api_key_id ELSE api_key_name END AS name,
    team,
    SUM(CASE WHEN in_this_week THEN 0 ELSE cost END) AS last_week_usd,
    SUM(CASE WHEN in_this_week THEN cost ELSE 0 END) AS this_week_usd
  FROM costs
  WHERE api_key_id <> ''
  GROUP BY api_key_id, api_key_name, team
),
ranked AS (
  SELECT
    movers.*,
    ROW_NUMBER() OVER (
      PARTITION BY kind ORDER BY ABS(this_week_usd - last_week_usd) DESC, name
    ) AS place
  FROM movers
)
SELECT
  kind,
  place,
  name,
  team,
  last_week_usd,
  this_week_usd,
  this_week_usd - last_week_usd AS change_usd,
  CASE
    WHEN last_week_usd = 0 THEN NULL
    ELSE ROUND(100 * CAST(this_week_usd - last_week_usd AS DOUBLE) / CAST(last_week_usd AS DOUBLE), 1)
  END AS change_pct
FROM ranked
WHERE place <= 10
ORDER BY kind DESC, place
