"""The browser dashboard (``scslab dashboard``): build a society, switch systems on, watch
and compare.

Files: ``register`` reads the parameter register, ``forms`` turns the scenario schema into
form fields, ``jobs`` runs simulations in worker processes, ``limits`` writes the "what this
does not show" notes, ``app`` lays out the page (Panel) and serves it. Nothing here imports
Panel or the engine at import time: ``scslab run`` never pays for the dashboard.
"""
