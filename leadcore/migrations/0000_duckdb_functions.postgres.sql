-- PostgreSQL only: the few DuckDB functions leadcore's shared SQL uses that PostgreSQL lacks, under
-- DuckDB's names and with its meaning, so services and read models keep one text for both
-- engines (leadcore/postgres.py). All are IMMUTABLE or STABLE, so indexes and plans may use them.

-- Microseconds / milliseconds since 1970-01-01 UTC.
CREATE FUNCTION epoch_us(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN (extract(epoch FROM t) * 1000000)::BIGINT;
CREATE FUNCTION epoch_ms(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN (extract(epoch FROM t) * 1000)::BIGINT;
CREATE FUNCTION epoch_ms(ms BIGINT) RETURNS TIMESTAMPTZ LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN to_timestamp(ms / 1000.0);
CREATE FUNCTION make_timestamptz(us BIGINT) RETURNS TIMESTAMPTZ LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN to_timestamp(us / 1000000.0);

-- Parts of a local timestamp.
CREATE FUNCTION hour(t TIMESTAMP) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN extract(hour FROM t)::BIGINT;
CREATE FUNCTION isodow(t TIMESTAMP) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN extract(isodow FROM t)::BIGINT;
CREATE FUNCTION dayofweek(t TIMESTAMP) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN extract(dow FROM t)::BIGINT;

-- A JSON value's text at a path: '$' (the value itself) or '$.a.b'.
CREATE FUNCTION json_extract_string(j JSON, path TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN path = '$' THEN j #>> '{}'
                ELSE j #>> string_to_array(substr(path, 3), '.') END;
CREATE FUNCTION json_extract_string(j TEXT, path TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN json_extract_string(j::JSON, path);

-- The value of `arg` on the row where `val` is largest / smallest (DuckDB's arg_max / arg_min).
CREATE FUNCTION _arg_max_step(state ANYCOMPATIBLEARRAY, arg ANYCOMPATIBLE, val ANYCOMPATIBLE)
    RETURNS ANYCOMPATIBLEARRAY LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN val IS NULL THEN state
                WHEN state IS NULL OR val > state[2] THEN ARRAY[arg, val] ELSE state END $$;
CREATE FUNCTION _arg_min_step(state ANYCOMPATIBLEARRAY, arg ANYCOMPATIBLE, val ANYCOMPATIBLE)
    RETURNS ANYCOMPATIBLEARRAY LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN val IS NULL THEN state
                WHEN state IS NULL OR val < state[2] THEN ARRAY[arg, val] ELSE state END $$;
CREATE FUNCTION _arg_final(state ANYCOMPATIBLEARRAY) RETURNS ANYCOMPATIBLE
    LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$ SELECT state[1] $$;
CREATE AGGREGATE arg_max(ANYCOMPATIBLE, ANYCOMPATIBLE)
    (SFUNC = _arg_max_step, STYPE = ANYCOMPATIBLEARRAY, FINALFUNC = _arg_final);
CREATE AGGREGATE arg_min(ANYCOMPATIBLE, ANYCOMPATIBLE)
    (SFUNC = _arg_min_step, STYPE = ANYCOMPATIBLEARRAY, FINALFUNC = _arg_final);

-- Letters without their accents, for contacts' search text (DuckDB's strip_accents). translate()
-- rather than the unaccent extension: a managed PostgreSQL may not allow extensions.
CREATE FUNCTION strip_accents(t TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN translate(t,
        'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćČčĎďÈÉÊËèéêëĒēĘęĚěÌÍÎÏìíîïĪīŁłÑñŃńŇňÒÓÔÕÖØòóôõöøŌōŐőŘřŚśŠšŞşŤťÙÚÛÜùúûüŪūŮůŰűÝýÿŹźŻżŽž',
        'AAAAAAaaaaaaAaAaAaCcCcCcDdEEEEeeeeEeEeEeIIIIiiiiIiLlNnNnNnOOOOOOooooooOoOoRrSsSsSsTtUUUUuuuuUuUuUuYyyZzZzZz');

-- DuckDB's integer division operator (whole days and hours of epoch microseconds).
CREATE FUNCTION _int_divide(a BIGINT, b BIGINT) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN div(a, b);
CREATE OPERATOR // (LEFTARG = BIGINT, RIGHTARG = BIGINT, FUNCTION = _int_divide);

-- Parts of a date.
CREATE FUNCTION year(d DATE) RETURNS BIGINT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN extract(year FROM d)::BIGINT;

-- A local timestamp as text, for the C-style formats leadcore's SQL uses (%d.%m.%Y %H:%M ...).
CREATE FUNCTION strftime(t TIMESTAMP, format TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN to_char(t, replace(replace(replace(replace(replace(replace(format,
        '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD'), '%H', 'HH24'), '%M', 'MI'), '%S', 'SS'));
