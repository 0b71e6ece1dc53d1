"""The WSGI application for a web server (gunicorn, `fleet demo`): Fleet's pages and API with its settings.

Static files are served by WhiteNoise from ``<data_dir>/static`` (``fleet manage collectstatic`` fills it).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.conf.settings")
application = get_wsgi_application()
