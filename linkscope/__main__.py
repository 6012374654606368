from linkscope.cli import entrypoint

entrypoint()
