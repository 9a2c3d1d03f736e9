{{ config(enabled=var('aruba_enabled', false)) }}

{#- Client health per site and connection type (and band for wireless): how many clients, how many failed
    to connect, signal (SNR, dB) and Classic's health score. `good_signal_clients`: SNR of 25 dB or more. -#}

select
    site_key,
    max(site_name) as site_name,
    connection_type,
    band,
    count(*) as clients,
    count(*) filter (where is_connected) as connected_clients,
    count(*) filter (where status = 'Failed') as failed_clients,
    round(100.0 * count(*) filter (where status = 'Failed') / count(*), 1) as failed_pct,
    round(avg(snr)::numeric, 1) as avg_snr,
    count(*) filter (where snr >= 25) as good_signal_clients,
    round(avg(health)::numeric, 1) as avg_health

from {{ ref('clients') }}
where not is_removed
group by site_key, connection_type, band
