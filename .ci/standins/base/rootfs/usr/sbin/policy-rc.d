#!/bin/sh
# Never start services from package scripts inside an image build.
exit 101
