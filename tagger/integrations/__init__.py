"""Optional integrations with other libraries; each module imports its library only when it is used.

* :mod:`tagger.integrations.hf_datasets`: train from and tag Hugging Face ``datasets`` (extra ``[datasets]``).
* :mod:`tagger.integrations.ray_data`: batch tagging on Ray Data, one model per actor (extra ``[ray]``).
"""
