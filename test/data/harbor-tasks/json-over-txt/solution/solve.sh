#!/bin/bash
set -eu
sed -i 's/        if value:/        if True:/' /app/conf/loader.py
