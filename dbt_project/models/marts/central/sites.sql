{{ config(materialized='table', enabled=var('aruba_enabled', false)) }}

{#- One row per Central site (its id, else its name: Classic names sites only), with its live devices and
    clients. -#}

with devices as (

    select site_key, max(site_id) as site_id, max(site_name) as site_name,
        count(*) as devices, count(*) filter (where is_online) as online_devices
    from {{ ref('central_devices') }}
    where not is_removed and site_key is not null
    group by site_key

),

clients as (

    select site_key, max(site_id) as site_id, max(site_name) as site_name,
        count(*) as clients, count(*) filter (where is_connected) as connected_clients
    from {{ ref('clients') }}
    where not is_removed and site_key is not null
    group by site_key

)

select
    coalesce(devices.site_key, clients.site_key) as site_key,
    coalesce(devices.site_id, clients.site_id) as site_id,
    coalesce(devices.site_name, clients.site_name) as site_name,
    coalesce(devices.devices, 0) as devices,
    coalesce(devices.online_devices, 0) as online_devices,
    coalesce(clients.clients, 0) as clients,
    coalesce(clients.connected_clients, 0) as connected_clients

from devices
full outer join clients on clients.site_key = devices.site_key
