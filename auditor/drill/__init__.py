"""The annual drill: scenarios that act on inventory hosts and look for the defences' reaction.

``scenario`` reads playbooks/drills/*.yaml, ``actions`` holds one module per action type,
``runner`` plans and runs them (cleanup always), ``record`` and ``minutes`` write drill.json and
drill.html.
"""
