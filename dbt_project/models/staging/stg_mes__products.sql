with

source as (

    select * from {{ source('mes', 'products') }}

),

renamed as (

    select
        cast(product_id as {{ type_text() }}) as product_id,
        cast(nominal_capacity_ah as double) as nominal_capacity_ah,
        cast(material_cost_per_cell as double) as material_cost_per_cell,
        cast(selling_price_per_cell as double) as selling_price_per_cell,
        cast(currency as {{ type_text() }}) as currency,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
