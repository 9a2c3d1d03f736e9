{{ config(enabled=var('aruba_enabled', false)) }}

{#- Live Central devices with their live clients (connected, failed, wireless, wired) and the GreenLake
    device id when GreenLake has the serial too. -#}

with clients as (

    select
        connected_device_serial,
        count(*) as clients,
        count(*) filter (where is_connected) as connected_clients,
        count(*) filter (where status = 'Failed') as failed_clients,
        count(*) filter (where connection_type = 'WIRELESS') as wireless_clients,
        count(*) filter (where connection_type = 'WIRED') as wired_clients
    from {{ ref('clients') }}
    where not is_removed and connected_device_serial is not null
    group by connected_device_serial

),

greenlake as (

    select {{ normal_serial('serial_number') }} as serial_number, min(device_id) as device_id
    from {{ ref('devices') }}
    where not is_removed
    group by 1

)

select
    devices.serial_number,
    greenlake.device_id as greenlake_device_id,
    devices.device_name,
    devices.device_type,
    devices.model,
    devices.status,
    devices.site_key,
    devices.site_name,
    coalesce(clients.clients, 0) as clients,
    coalesce(clients.connected_clients, 0) as connected_clients,
    coalesce(clients.failed_clients, 0) as failed_clients,
    coalesce(clients.wireless_clients, 0) as wireless_clients,
    coalesce(clients.wired_clients, 0) as wired_clients

from {{ ref('central_devices') }} as devices
left join clients on clients.connected_device_serial = devices.serial_number
left join greenlake on greenlake.serial_number = devices.serial_number
where not devices.is_removed
