{{ config(enabled=var('aruba_enabled', false)) }}

{#- Live Central clients per site: connected and failed, wireless and wired, and the site's devices. -#}

with clients as (

    select
        site_key,
        count(*) as clients,
        count(*) filter (where is_connected) as connected_clients,
        count(*) filter (where status = 'Failed') as failed_clients,
        count(*) filter (where connection_type = 'WIRELESS') as wireless_clients,
        count(*) filter (where connection_type = 'WIRED') as wired_clients
    from {{ ref('clients') }}
    where not is_removed
    group by site_key

)

select
    sites.site_key,
    sites.site_id,
    sites.site_name,
    sites.devices,
    sites.online_devices,
    coalesce(clients.clients, 0) as clients,
    coalesce(clients.connected_clients, 0) as connected_clients,
    coalesce(clients.failed_clients, 0) as failed_clients,
    coalesce(clients.wireless_clients, 0) as wireless_clients,
    coalesce(clients.wired_clients, 0) as wired_clients

from {{ ref('sites') }} as sites
left join clients on clients.site_key = sites.site_key
