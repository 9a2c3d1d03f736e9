{{ config(
    materialized='table',
    enabled=var('aruba_enabled', false),
    indexes=[{'columns': ['mac_address'], 'unique': True}, {'columns': ['connected_device_serial']}, {'columns': ['site_key']}]
) }}

{#- One row per Central client (MAC, lower-case), the latest sighting across both API generations, with the
    device it is connected to and that device's site when the client does not name one. -#}

with {{ full_syncs_ctes('central_clients') }},

staged as (

    select * from {{ ref('stg_central__clients') }} where mac_address is not null

),

latest as (

    select distinct on (mac_address) *
    from staged
    order by mac_address, last_seen_at desc nulls last, api

),

devices as (

    select distinct on (serial_number) serial_number, site_id, site_name, device_name, device_type
    from {{ ref('stg_central__devices') }}
    where serial_number is not null
    order by serial_number, last_seen_at desc nulls last

),

final as (

    select
        latest.mac_address,
        latest.client_name,
        latest.host_name,
        latest.user_name,
        latest.ip_address,
        latest.status,
        latest.status = 'Connected' as is_connected,
        latest.connection_type,
        latest.connected_device_serial,
        coalesce(latest.connected_device_type, devices.device_type) as connected_device_type,
        devices.device_name as connected_device_name,
        coalesce(latest.site_id, devices.site_id, latest.site_name, devices.site_name) as site_key,
        coalesce(latest.site_id, devices.site_id) as site_id,
        coalesce(latest.site_name, devices.site_name) as site_name,
        latest.connected_at,
        latest.vlan_id,
        latest.wlan_name,
        latest.band,
        latest.snr,
        latest.health,
        latest.manufacturer,
        latest.operating_system,
        latest.role,
        latest.api,
        latest.last_seen_at,
        {{ removal_columns() }}

    from latest
    left join devices on devices.serial_number = latest.connected_device_serial
    {{ removal_join('latest') }}

)

select * from final
