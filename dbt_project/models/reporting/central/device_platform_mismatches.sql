{{ config(enabled=var('aruba_enabled', false)) }}

{#- Devices in both GreenLake and Central whose model or name differ, or that GreenLake has archived while
    Central still sees them online: one row per device, with both sides' values. -#}

select
    serial_number,
    device_id,
    greenlake_device_type,
    central_device_type,
    greenlake_model,
    central_model,
    greenlake_name,
    central_name,
    is_greenlake_archived,
    central_status,
    central_site_name,
    is_model_mismatch,
    is_name_mismatch,
    is_status_mismatch

from {{ ref('device_platform_presence') }}
where presence = 'both' and (is_model_mismatch or is_name_mismatch or is_status_mismatch)
