#!/bin/sh
echo report > /var/reports/today.txt
