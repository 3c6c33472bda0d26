import os
os.environ.setdefault('AIDD_NO_PROGRESS', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')
