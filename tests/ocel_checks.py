"""What a warehouse's ocel schema must show whatever days it holds (issue 21), for the tests that build one:
every completed cell traces to one anode and one cathode roll, each from one coil of one slurry batch, and the
cells every cell-making machine processed are the OEE mart's good + scrap, day by day."""

from __future__ import annotations

from collections.abc import Callable

Query = Callable[[str], list[tuple]]
ELECTRODE_STEPS = ("Mixing", "Coating", "Drying", "Calendering", "Slitting")  # one event per batch: no cells

LAST_STATUS = """select ocel_id, value_str as status from ocel.object_attribute where name = 'status'
    qualify row_number() over (partition by ocel_id order by ocel_time desc, case value_str
        when 'packed' then 3 when 'scrapped' then 2 when 'graded' then 1 else 0 end desc) = 1"""


def assert_completed_cells_trace_to_their_material(query: Query) -> int:
    """Every cell whose last status is graded or packed: one anode and one cathode roll, two coils, two
    slurry batches. Returns how many completed cells there are."""
    completed = query(f"select count(*) from ({LAST_STATUS}) where status in ('graded', 'packed')")[0][0]
    chains = query(
        f"""with completed as (select ocel_id from ({LAST_STATUS}) where status in ('graded', 'packed'))
            select c.ocel_id,
                   count(*) filter (where r.ocel_qualifier = 'anode from') as anode_rolls,
                   count(*) filter (where r.ocel_qualifier = 'cathode from') as cathode_rolls,
                   count(distinct coil.ocel_target_id) as coils,
                   count(distinct slurry.ocel_target_id) as slurries,
                   count(distinct slurry_type.ocel_type) as slurry_types
            from completed c
            join ocel.object_object r
              on r.ocel_source_id = c.ocel_id and r.ocel_qualifier in ('anode from', 'cathode from')
            join ocel.object_object coil
              on coil.ocel_source_id = r.ocel_target_id and coil.ocel_qualifier = 'slit from'
            join ocel.object_object slurry
              on slurry.ocel_source_id = coil.ocel_target_id and slurry.ocel_qualifier = 'coated with'
            join ocel.object slurry_type on slurry_type.ocel_id = slurry.ocel_target_id
            group by c.ocel_id"""
    )
    assert len(chains) == completed  # none without its rolls
    assert {row[1:] for row in chains} == {(1, 1, 2, 2, 1)}  # one roll each, two coils, two slurry batches
    return completed


def assert_cells_per_machine_day_are_the_oee_marts_good_and_scrap(query: Query) -> int:
    """At every cell-making machine on every day: its cell events = good + scrap of marts.fct_oee_machine_day.
    Returns the cells counted."""
    per_machine_day = query(
        f"""with cell_events as (
                select e.production_date, machine.ocel_object_id as machine_id, count(*) as cells
                from ocel.event e
                join ocel.event_object own on own.ocel_event_id = e.ocel_id
                join ocel.object o on o.ocel_id = own.ocel_object_id and o.ocel_type = 'cell'
                join ocel.event_object machine
                  on machine.ocel_event_id = e.ocel_id and machine.ocel_qualifier = 'machine'
                group by all)
            select m.production_date, m.machine_id, m.good_qty + m.scrap_qty, coalesce(c.cells, 0)
            from marts.fct_oee_machine_day m left join cell_events c using (production_date, machine_id)
            where m.activity not in {ELECTRODE_STEPS}"""
    )
    assert [row for row in per_machine_day if row[2] != row[3]] == []
    cells = sum(row[2] for row in per_machine_day)
    # ... and the per-cell mart's good cells of each day are the batch marts' good cells at the final step
    good = query(
        """select q.production_date, q.good, c.good
           from (select production_date, sum(good_cells) as good from marts.fct_quality_yield
                 where activity = 'Grading' group by 1) q
           full join (select production_date, sum(cells_good) as good from marts.fct_cell_flow_day
                      group by 1) c using (production_date)"""
    )
    assert good and [row for row in good if row[1] != row[2]] == []
    return cells
