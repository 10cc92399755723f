#!/bin/bash
echo good > /app/input.txt
