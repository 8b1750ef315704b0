"""The flow's stages, one class each, all over one Core (kiosk.engine.core):

identify (start, cancel) → prove (codes, questions, authenticator; every proof reserved with
the throttle first) → complete (sign-in, new password, unlock) | register (security info).
"""
