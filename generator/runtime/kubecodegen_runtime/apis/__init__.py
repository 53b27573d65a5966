"""Hand-written wire types of server-side APIs that no OpenAPI document describes.

The generated packages type every resource the server publishes in its OpenAPI
document; a few answers the runtime itself reads (aggregated discovery) are not in it.
"""
