{{ config(enabled=var('aruba_enabled', false)) }}

{#- Central's clients in one shape, whichever API they came from (New Central's `clients`, Classic's
    `classic_clients`). MAC addresses are lower-case; the connected device's serial is trimmed and upper-case;
    connection type is WIRELESS / WIRED; status is New Central's word (Connected, Failed, ...), and for
    Classic, which lists connected and failed clients in separate calls, Failed when it reports a failure
    stage or reason, else Connected. Health: Classic's 0-100 score; New Central has none. -#}

with new_clients as (

    {{ central_raw('clients', {
        'mac_address': 'text', 'client_name': 'text', 'host_name': 'text', 'user_name': 'text',
        'ipv4': 'text', 'status': 'text', 'client_connection_type': 'text',
        'connected_device_serial': 'text', 'connected_device_type': 'text', 'connected_at': 'text',
        'vlan_id': 'text', 'wlan_name': 'text', 'wireless_band': 'text', 'snr': 'double precision',
        'client_manufacturer': 'text', 'client_operating_system': 'text', 'site_id': 'text',
        'site_name': 'text', 'role': 'text'
    }) }}

),

classic_clients as (

    {{ central_raw('classic_clients', {
        'macaddr': 'text', 'name': 'text', 'hostname': 'text', 'username': 'text', 'ip_address': 'text',
        'client_type': 'text', 'associated_device': 'text', 'connected_device_type': 'text',
        'last_connection_time': 'bigint', 'vlan': 'text', 'network': 'text', 'band': 'double precision',
        'snr': 'double precision', 'health': 'double precision', 'manufacturer': 'text', 'os_type': 'text',
        'site': 'text', 'user_role': 'text', 'failure_stage': 'text', 'failure_reason': 'text'
    }) }}

),

unified as (

    select
        lower(mac_address) as mac_address,
        coalesce(client_name, host_name) as client_name,
        host_name,
        user_name,
        ipv4 as ip_address,
        status,
        upper(client_connection_type) as connection_type,
        {{ normal_serial('connected_device_serial') }} as connected_device_serial,
        upper(connected_device_type) as connected_device_type,
        {{ try_timestamptz('connected_at') }} as connected_at,
        vlan_id,
        wlan_name,
        wireless_band as band,
        snr,
        null::double precision as health,
        client_manufacturer as manufacturer,
        client_operating_system as operating_system,
        site_id,
        site_name,
        role,
        'new' as api,
        _glp_synced_at as last_seen_at

    from new_clients

    union all

    select
        lower(macaddr) as mac_address,
        coalesce(name, hostname) as client_name,
        hostname as host_name,
        username as user_name,
        ip_address,
        case when coalesce(failure_stage, failure_reason) is not null then 'Failed' else 'Connected' end
            as status,
        upper(client_type) as connection_type,
        {{ normal_serial('associated_device') }} as connected_device_serial,
        upper(connected_device_type) as connected_device_type,
        to_timestamp(last_connection_time / 1000.0) as connected_at,
        vlan as vlan_id,
        network as wlan_name,
        case when band is null then null else trim(to_char(band, 'FM990.0')) || ' GHz' end as band,
        snr,
        health,
        manufacturer,
        os_type as operating_system,
        null as site_id,
        site as site_name,
        user_role as role,
        'classic' as api,
        _glp_synced_at as last_seen_at

    from classic_clients

)

select * from unified
