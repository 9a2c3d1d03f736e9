{{ config(enabled=var('aruba_enabled', false)) }}

{#- Central's devices in one shape, whichever API they came from: New Central's `devices` list, and
    Classic's `classic_aps`, `classic_switches` and `classic_gateways`. Serials are trimmed and upper-case
    (how the cross view with GreenLake matches them); status is ONLINE / OFFLINE (New Central's devices list
    says so, Classic says Up / Down; other values are kept, upper-cased). -#}

with new_devices as (

    {{ central_raw('devices', {
        'serial_number': 'text', 'device_name': 'text', 'device_type': 'text', 'model': 'text',
        'part_number': 'text', 'mac_address': 'text', 'status': 'text', 'site_id': 'text',
        'site_name': 'text', 'firmware_version': 'text', 'ipv4': 'text', 'deployment': 'text',
        'device_function': 'text', 'cluster_name': 'text', 'config_status': 'text',
        'last_seen_at': 'text', 'uptime_in_millis': 'bigint'
    }) }}

),

classic_aps as (

    {{ central_raw('classic_aps', {
        'serial': 'text', 'name': 'text', 'model': 'text', 'macaddr': 'text', 'status': 'text',
        'site': 'text', 'firmware_version': 'text', 'ip_address': 'text', 'group_name': 'text',
        'uptime': 'bigint'
    }) }}

),

classic_switches as (

    {{ central_raw('classic_switches', {
        'serial': 'text', 'name': 'text', 'model': 'text', 'macaddr': 'text', 'status': 'text',
        'site': 'text', 'firmware_version': 'text', 'ip_address': 'text', 'group_name': 'text',
        'uptime': 'bigint'
    }) }}

),

classic_gateways as (

    {{ central_raw('classic_gateways', {
        'serial': 'text', 'name': 'text', 'model': 'text', 'macaddr': 'text', 'status': 'text',
        'site': 'text', 'firmware_version': 'text', 'ip_address': 'text', 'group_name': 'text'
    }) }}

),

classic as (

    select serial, name, model, macaddr, status, site, firmware_version, ip_address, group_name,
        'ACCESS_POINT' as device_type, uptime, _glp_synced_at
    from classic_aps
    union all
    select serial, name, model, macaddr, status, site, firmware_version, ip_address, group_name,
        'SWITCH' as device_type, uptime, _glp_synced_at
    from classic_switches
    union all
    select serial, name, model, macaddr, status, site, firmware_version, ip_address, group_name,
        'GATEWAY' as device_type, null::bigint as uptime, _glp_synced_at
    from classic_gateways

),

unified as (

    select
        {{ normal_serial('serial_number') }} as serial_number,
        serial_number as serial_number_raw,
        device_name,
        upper(device_type) as device_type,
        model,
        part_number,
        lower(mac_address) as mac_address,
        upper(status) as status,
        site_id,
        site_name,
        firmware_version,
        ipv4 as ip_address,
        deployment,
        device_function,
        cluster_name,
        config_status,
        uptime_in_millis,
        'new' as api,
        _glp_synced_at as last_seen_at

    from new_devices

    union all

    select
        {{ normal_serial('serial') }} as serial_number,
        serial as serial_number_raw,
        name as device_name,
        device_type,
        model,
        null as part_number,
        lower(macaddr) as mac_address,
        case upper(status) when 'UP' then 'ONLINE' when 'DOWN' then 'OFFLINE' else upper(status) end as status,
        null as site_id,
        site as site_name,
        firmware_version,
        ip_address,
        null as deployment,
        null as device_function,
        group_name as cluster_name,
        null as config_status,
        uptime * 1000 as uptime_in_millis,
        'classic' as api,
        _glp_synced_at as last_seen_at

    from classic

)

select * from unified
