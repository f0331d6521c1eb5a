/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file pfse.h
 * @brief Umbrella header of libpfse, the predictive flow state engine.
 *
 * Include this one header, link with `pkg-config --libs libpfse`.
 */
#ifndef PFSE_PFSE_H
#define PFSE_PFSE_H

#include <pfse/common.h>
#include <pfse/version.h>
#include <pfse/flow_key.h>
#include <pfse/parse.h>
#include <pfse/flow_table.h>
#include <pfse/history.h>
#include <pfse/predict.h>
#include <pfse/select.h>
#include <pfse/lstm.h>
#include <pfse/snapshot.h>
#include <pfse/cluster.h>
#include <pfse/policy.h>
#include <pfse/engine.h>

#endif /* PFSE_PFSE_H */
