"""The object model of the cell factory in OCEL 2.0 terms: object types, their ids, qualified relations.

The simulated plant moves batches (the process-mining case) of ``batch_size_cells`` cell equivalents. Each
batch is resolved here into the physical objects a traceability system follows:

    slurry batch   anode and cathode slurry of one production batch, mixed at Mixing
    electrode coil coated at Coating, then dried and calendered (the same coil in several events)
    coil segment   a length section of a coil: coating thickness and areal loading are measured per segment
    daughter roll  Slitting cuts each coil into lanes and the rewinder cuts each lane into lengths, so a roll
                   carries one lane over a range of segments
    cell           one id each, made at Stacking from one anode roll and one cathode roll, at one position
                   along them (so from one anode and one cathode segment)
    formation channel  the cycler channel of a Formation machine the cell sat in
    tray           good cells are packed after Grading, a fixed number per tray
    machine, crew  who and what performed each event

Object-to-object relations point from the product to what it is made of (the direction of a backward trace):
a forward trace follows only the material relations below, in reverse.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Layout of one batch. A batch's cells are numbered 0..batch_size_cells-1 in stacking order; cell k sits at
# position k / batch_size_cells along the batch's electrode material, on both electrodes alike.
COILS_PER_ELECTRODE = 2  # coils coated from one slurry batch
SEGMENTS_PER_COIL = 20
LANES_PER_COIL = 2  # slitting cuts the coil's width into lanes
SECTIONS_PER_LANE = 2  # the rewinder cuts each lane into daughter rolls of SEGMENTS_PER_COIL / 2 segments
CELLS_PER_TRAY = 20
CHANNELS_PER_FORMATION_MACHINE = 256

ELECTRODES = {"A": "anode", "C": "cathode"}

# Object types
SLURRY = "slurry batch"
COIL = "electrode coil"
SEGMENT = "coil segment"
ROLL = "daughter roll"
CELL = "cell"
CHANNEL = "formation channel"
TRAY = "tray"
MACHINE = "machine"
CREW = "crew"
OBJECT_TYPES = (SLURRY, COIL, SEGMENT, ROLL, CELL, CHANNEL, TRAY, MACHINE, CREW)

# Object-to-object qualifiers (source -> target)
COATED_WITH = "coated with"  # coil -> slurry batch
SEGMENT_OF = "segment of"  # segment -> coil
SLIT_FROM = "slit from"  # roll -> coil
ANODE_FROM = "anode from"  # cell -> anode roll
CATHODE_FROM = "cathode from"  # cell -> cathode roll
ANODE_SEGMENT = "anode segment"  # cell -> the anode segment it was cut from
CATHODE_SEGMENT = "cathode segment"  # cell -> the cathode segment it was cut from
FORMED_IN = "formed in"  # cell -> formation channel
PACKED_IN = "packed in"  # cell -> tray
CHANNEL_OF = "channel of"  # formation channel -> machine
# Material flow: what a forward trace may follow. A roll carries many segments, so a segment's cells are
# found through the cell -> segment relation, never through the roll.
MATERIAL_RELATIONS = (
    COATED_WITH,
    SEGMENT_OF,
    SLIT_FROM,
    ANODE_FROM,
    CATHODE_FROM,
    ANODE_SEGMENT,
    CATHODE_SEGMENT,
)

# Event-to-object qualifiers. A cell's link to the event where it is scrapped says "scrapped" (at Stacking
# instead of "created", later instead of "processed"): its last event.
INPUT, OUTPUT, PROCESSED = "input", "output", "processed"
CREATED, SCRAPPED, PACKED = "created", "scrapped", "packed"
PERFORMED_ON, OPERATED_BY = "machine", "crew"

# Cell status, the attribute "status" of a cell at its last event of the day
IN_PROCESS, STATUS_SCRAPPED, GRADED, STATUS_PACKED = "in process", "scrapped", "graded", "packed"


def slurry_id(case_id: str, electrode: str) -> str:
    return f"{case_id}-{electrode}"


def coil_id(case_id: str, electrode: str, coil: int) -> str:
    return f"{case_id}-{electrode}{coil + 1}"


def segment_id(coil: str, segment: int) -> str:
    return f"{coil}-S{segment:02d}"


def roll_id(coil: str, lane: int, section: int) -> str:
    return f"{coil}-L{lane + 1}R{section + 1}"


CELL_NUMBER_DIGITS = 4


def cell_id(case_id: str, number: int) -> str:
    return f"{case_id}-{number:0{CELL_NUMBER_DIGITS}d}"


def cell_suffixes(numbers: np.ndarray) -> pa.Array:
    """The ids' suffixes of many cell numbers at once ("0042"), as ``cell_id`` writes one."""
    return pc.utf8_lpad(pa.array(numbers).cast(pa.string()), CELL_NUMBER_DIGITS, "0")


def channel_id(machine_id: str, channel: int) -> str:
    return f"{machine_id}-CH{channel:03d}"


def position(number: int, batch_size_cells: int) -> tuple[int, int, int, int]:
    """(coil, segment, lane, section) a batch's cell ``number`` is cut from, on either electrode.

    Cells run along the coils in order; consecutive cells alternate lanes, as a stacker feeds from both.
    """
    slot = number * COILS_PER_ELECTRODE * SEGMENTS_PER_COIL // batch_size_cells
    coil, segment = divmod(slot, SEGMENTS_PER_COIL)
    section = segment * SECTIONS_PER_LANE // SEGMENTS_PER_COIL
    return coil, segment, number % LANES_PER_COIL, section


def numbers_cut_from(coil: int, segment: int, batch_size_cells: int) -> range:
    """The cell numbers of a batch cut from one segment of its ``coil``-th coil (of either electrode)."""
    slots = COILS_PER_ELECTRODE * SEGMENTS_PER_COIL
    slot = coil * SEGMENTS_PER_COIL + segment
    first = -(-slot * batch_size_cells // slots)
    return range(first, -(-(slot + 1) * batch_size_cells // slots))
