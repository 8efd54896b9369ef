{#-
  Rows for which a SQL boolean expression is false fail; NULL counts as a pass (use not_null for that).
  On a column the expression is appended to the column name:  `- expression_is_true: {expression: ">= 0"}`;
  on a model it stands alone:  `- expression_is_true: {expression: "good_qty + scrap_qty = produced_qty"}`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not ({% if column_name %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}
