"""The shared Cinder objects every service uses: cinder.objects, cinder.quota, cinder.exception
and cinder.message, in small.
"""
