{#- Raw keeps the API's strings as sent; staging casts them. A value that does not look like what it should
    be becomes NULL instead of failing the whole build (an odd value from the API is data, not an error). -#}

{% macro try_timestamptz(column) -%}
    case
        when {{ column }} ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$'
            then ({{ column }})::timestamptz
    end
{%- endmacro %}

{% macro try_integer(column) -%}
    case when btrim({{ column }}) ~ '^-?\d{1,9}$' then btrim({{ column }})::integer end
{%- endmacro %}

{% macro try_double(expression) -%}
    case when jsonb_typeof({{ expression }}) = 'number' then ({{ expression }})::double precision end
{%- endmacro %}

{#- MAC addresses in the upper-case colon form GreenLake expects (AA:BB:CC:DD:EE:FF); anything that is not
    12 hex digits once separators are removed is kept as sent, upper-cased. -#}
{% macro normalize_mac(column) -%}
    case
        when length(regexp_replace(upper({{ column }}), '[^0-9A-F]', '', 'g')) = 12
         and upper({{ column }}) ~ '^[0-9A-F:.\- ]+$'
            then regexp_replace(
                regexp_replace(upper({{ column }}), '[^0-9A-F]', '', 'g'),
                '(..)(..)(..)(..)(..)(..)', '\1:\2:\3:\4:\5:\6'
            )
        else nullif(upper(btrim({{ column }})), '')
    end
{%- endmacro %}
