{#- The device counts every summary table carries (over live devices: callers filter `not is_removed`), so
    that the dashboard's, the MCP tools' and ad-hoc sums agree whichever table they read. -#}
{% macro device_counts() -%}
    count(*) as total_devices,
    count(*) filter (where is_assigned) as assigned_devices,
    count(*) filter (where not is_assigned) as unassigned_devices,
    count(*) filter (where is_archived) as archived_devices
{%- endmacro %}
