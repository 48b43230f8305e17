"""gameday: drills played by people — the facilitator's controls, the responders' measures, the after-action report.

A game day is a front-end of the drill sequencer: it decides *when* (the
facilitator says so) and watches people respond; every phase runs in
:class:`pfdrill.drill.sequencer.Sequencer`. I/O: the game day's directory
under the state dir, the responders' workspace and incident store, the
dashboard server it hosts, the drill environment through :mod:`pfdrill.drill`.
"""
