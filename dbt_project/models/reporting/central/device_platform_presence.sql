{{ config(enabled=var('aruba_enabled', false)) }}

{#- Every live device of either platform, by serial (trimmed, upper-case): in both GreenLake and Aruba
    Central, in GreenLake only, or in Central only, with both sides' name, model and status, and whether they
    disagree. `is_network_device`: a kind of gear Central manages (the `central_device_types` var), so a
    GreenLake-only device that is one is missing from Central; compute and storage never are in it.
    A mismatch is counted where GreenLake has a value and the trimmed values differ. -#}

with greenlake as (

    select
        {{ normal_serial('serial_number') }} as serial_number,
        device_id,
        device_type,
        model,
        device_name,
        is_archived,
        is_assigned,
        application_id
    from {{ ref('devices') }}
    where not is_removed and {{ normal_serial('serial_number') }} is not null

),

central as (

    select * from {{ ref('central_devices') }} where not is_removed

),

joined as (

    select
        coalesce(greenlake.serial_number, central.serial_number) as serial_number,
        case
            when greenlake.serial_number is not null and central.serial_number is not null then 'both'
            when greenlake.serial_number is not null then 'greenlake_only'
            else 'central_only'
        end as presence,
        central.serial_number is not null
            or greenlake.device_type in ({{ "'" ~ var('central_device_types') | join("', '") ~ "'" }})
            as is_network_device,
        greenlake.device_id,
        greenlake.device_type as greenlake_device_type,
        greenlake.model as greenlake_model,
        greenlake.device_name as greenlake_name,
        greenlake.is_archived as is_greenlake_archived,
        greenlake.is_assigned as is_greenlake_assigned,
        greenlake.application_id as greenlake_application_id,
        central.device_type as central_device_type,
        central.model as central_model,
        central.device_name as central_name,
        central.status as central_status,
        central.is_online as is_central_online,
        central.site_name as central_site_name,
        central.client_count as central_client_count,
        coalesce(
            nullif(btrim(greenlake.model), '') is not null
            and central.serial_number is not null
            and btrim(greenlake.model) is distinct from btrim(central.model),
            false
        ) as is_model_mismatch,
        coalesce(
            nullif(btrim(greenlake.device_name), '') is not null
            and central.serial_number is not null
            and btrim(greenlake.device_name) is distinct from btrim(central.device_name),
            false
        ) as is_name_mismatch,
        coalesce(greenlake.is_archived and central.is_online, false) as is_status_mismatch

    from greenlake
    full outer join central on central.serial_number = greenlake.serial_number

)

select * from joined
