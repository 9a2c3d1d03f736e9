{{ config(
    materialized='table',
    enabled=var('aruba_enabled', false),
    indexes=[{'columns': ['serial_number'], 'unique': True}, {'columns': ['site_key']}, {'columns': ['device_type', 'serial_number']}]
) }}

{#- One row per Central device (serial trimmed and upper-case), the latest sighting across both API
    generations. `is_removed`: not seen by the newest successful full read of Central's devices. -#}

with {{ full_syncs_ctes('central_devices') }},

staged as (

    select * from {{ ref('stg_central__devices') }} where serial_number is not null

),

latest as (

    select distinct on (serial_number) *
    from staged
    order by serial_number, last_seen_at desc nulls last, api

),

clients as (

    select connected_device_serial, count(*) as clients, count(*) filter (where status = 'Connected') as connected
    from {{ ref('stg_central__clients') }}
    where connected_device_serial is not null
    group by connected_device_serial

),

final as (

    select
        latest.serial_number,
        latest.serial_number_raw,
        latest.device_name,
        latest.device_type,
        latest.model,
        latest.part_number,
        latest.mac_address,
        latest.status,
        latest.status = 'ONLINE' as is_online,
        coalesce(latest.site_id, latest.site_name) as site_key,
        latest.site_id,
        latest.site_name,
        latest.firmware_version,
        latest.ip_address,
        latest.deployment,
        latest.device_function,
        latest.cluster_name,
        latest.config_status,
        latest.uptime_in_millis,
        coalesce(clients.clients, 0) as client_count,
        coalesce(clients.connected, 0) as connected_client_count,
        latest.api,
        latest.last_seen_at,
        {{ removal_columns() }}

    from latest
    left join clients on clients.connected_device_serial = latest.serial_number
    {{ removal_join('latest') }}

)

select * from final
