{#- Calendar days (UTC) from today to a moment: 0 for later today, 1 for tomorrow. -#}
{% macro days_remaining(column) -%}
    (({{ column }} at time zone 'UTC')::date - (now() at time zone 'UTC')::date)
{%- endmacro %}

{#- True when a moment lies in the next `days` days (from now, inclusive, to now + days, exclusive). -#}
{% macro ends_within(column, days) -%}
    ({{ column }} >= now() and {{ column }} < now() + make_interval(days => {{ days }}))
{%- endmacro %}
