"""What the SQL box lets through, as allow-lists over DuckDB's own parse tree: functions an
analyst needs (aggregates, window, date/time, string, math, conditional), expression kinds and
FROM items. Anything not named here is refused, so a function DuckDB adds later stays out until
someone decides it is safe.

Left out on purpose: table functions and anything that reads files or the catalogue; functions
that build lists or maps (range, generate_series, list_*, unnest, string_split) or grow text
without a bound (repeat, printf/format, hex/base64 of hex...), and list-building aggregates
(string_agg, list, array_agg, histogram): a single call of those allocates outside DuckDB's
memory limit and cannot be interrupted (unnest(range(1e9)) took 20 GB). Edit distances are out
too: one call on long text is quadratic and uninterruptible.
"""
from __future__ import annotations

AGGREGATES = frozenset("""
    count count_star count_if countif sum avg mean min max median mode quantile quantile_cont
    quantile_disc approx_quantile approx_count_distinct any_value arbitrary first last
    arg_max arg_min argmax argmin max_by min_by bool_and bool_or stddev stddev_pop stddev_samp
    variance var_pop var_samp corr covar_pop covar_samp regr_slope regr_intercept regr_r2
    regr_count regr_avgx regr_avgy skewness kurtosis entropy mad sem product fsum kahan_sum
    geomean geometric_mean
""".split())

WINDOW_FUNCTIONS = frozenset("""
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
""".split())

DATE_TIME = frozenset("""
    date_trunc datetrunc date_part datepart date_diff datediff date_sub datesub date_add age
    time_bucket last_day year month day dayofmonth dayofweek dayofyear isodow isoyear week
    weekofyear weekday yearweek quarter hour minute second millisecond microsecond epoch
    epoch_ms dayname monthname century decade millennium era julian timezone_hour
    timezone_minute strftime strptime try_strptime make_date make_time make_timestamp
    make_timestamptz to_timestamp timezone current_date today now get_current_timestamp
    current_localtimestamp transaction_timestamp to_years to_months to_weeks to_days to_hours
    to_minutes to_seconds to_milliseconds normalized_interval
""".split())

# None of these can return text longer than their inputs (the padding ones are bounded below).
STRINGS = frozenset("""
    length len char_length character_length strlen octet_length lower upper lcase ucase trim
    ltrim rtrim substr substring left right reverse contains starts_with ends_with prefix
    suffix position strpos instr split_part regexp_matches regexp_full_match regexp_extract
    strip_accents nfc_normalize ascii unicode ord chr md5 sha1 sha256 hash translate
    like_escape ilike_escape ~~ !~~ ~~* !~~* ~~~ !~~~ array_extract array_slice
""".split())

MATH = frozenset("""
    + - * / // % ** ^ @ & | << >> ~ xor abs ceil ceiling floor round round_even roundbankers
    trunc sign sqrt cbrt exp ln log log10 log2 pow power mod fmod pi degrees radians sin cos
    tan cot asin acos atan atan2 sinh cosh tanh isnan isinf isfinite gcd lcm even add
    subtract multiply divide fdiv
""".split())

CONDITIONAL = frozenset("if nullif greatest least typeof".split())

# Text concatenation grows text, and chained over subqueries it grows it exponentially: the
# pieces of all ||, concat and concat_ws in a query are counted against CONCAT_PIECES, and a
# quoted text may be at most LITERAL_CHARS long: 12 pieces grow a text at most 81-fold (3^4).
CONCATENATION = frozenset("|| concat concat_ws".split())
CONCAT_PIECES = 12
LITERAL_CHARS = 1_000

# Functions allowed only when the argument that sets their output size is a small literal:
# name -> (index of that argument, largest value).
PADDING = {"lpad": (1, 100), "rpad": (1, 100)}
# replace(text, old, new) only with quoted old and new, new no longer than old: it cannot grow.
REPLACING = frozenset({"replace"})

FUNCTIONS = (AGGREGATES | DATE_TIME | STRINGS | MATH | CONDITIONAL | CONCATENATION | set(PADDING)
             | REPLACING)
WINDOWS = AGGREGATES | WINDOW_FUNCTIONS

# Expression classes of DuckDB's parse tree; FUNCTION, WINDOW and OPERATOR are checked further.
EXPRESSIONS = frozenset("""
    BETWEEN CASE CAST COLLATE COLUMN_REF COMPARISON CONJUNCTION CONSTANT FUNCTION OPERATOR
    POSITIONAL_REFERENCE STAR SUBQUERY TYPE WINDOW
""".split())
OPERATORS = frozenset("""
    OPERATOR_NOT OPERATOR_IS_NULL OPERATOR_IS_NOT_NULL COMPARE_IN COMPARE_NOT_IN
    OPERATOR_COALESCE OPERATOR_TRY OPERATOR_NULLIF ARRAY_EXTRACT ARRAY_SLICE
""".split())

# Query nodes and FROM items. Not here: TABLE_FUNCTION (range, read_csv...), SHOW_REF
# (DESCRIBE/SUMMARIZE of any table), PIVOT, and RECURSIVE_CTE_NODE (a recursive query is a
# generator with no bound: each round may double its rows or text).
NODES = frozenset("""
    SELECT_NODE SET_OPERATION_NODE CTE_NODE BASE_TABLE SUBQUERY JOIN EMPTY EXPRESSION_LIST
""".split())
# Clauses around them: ORDER BY directions, LIMIT, DISTINCT.
CLAUSES = frozenset("""
    ASCENDING DESCENDING ORDER_DEFAULT ORDER_MODIFIER LIMIT_MODIFIER LIMIT_PERCENT_MODIFIER
    DISTINCT_MODIFIER
""".split())
