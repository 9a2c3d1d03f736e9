{#- A column is unique among the rows that satisfy `where` (e.g. serial numbers among live devices). -#}
{% test unique_where(model, column_name, where_clause) %}

select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ where_clause }} and {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1

{% endtest %}
