{#-
  Values outside [min_value, max_value] fail (bounds are inclusive unless inclusive: false); either bound may be
  left out, NULL values pass. Used for ratios that must lie in [0, 1] (availability, quality ratio, yields) and
  for ratios that are only bounded below: effectiveness is deliberately NOT capped at 1 (ISO 22400-2).
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
  )
{% endtest %}
