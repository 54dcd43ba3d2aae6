"""Where releases run: a small driver interface over container engines, with plain dataclasses in and out.

Nothing here imports Django or any other part of appcontrol, so a driver can be used (and tested) on its
own; the deployments app decides what should run and hands specs to a driver.
"""
